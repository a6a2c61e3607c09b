// Swift paths: /v1/<account>[/<container>[/<object>]], the object name keeping its slashes.
export interface SwiftPath {
  version: string;
  account: string;
  container?: string;
  object?: string;
}

/** Splits a decoded proxy path; undefined when it is not a Swift API path. */
export function parseSwiftPath(path: string): SwiftPath | undefined {
  const m = /^\/(v1(?:\.0)?)\/([^/]+)(?:\/([^/]*)(?:\/(.*))?)?$/.exec(path);
  if (!m) return undefined;
  const [, version, account, container, object] = m;
  if (container === '' && object !== undefined) return undefined; // /v1/a//o
  return {
    version: version!,
    account: account!,
    container: container === undefined || container === '' ? undefined : container,
    object: object === undefined || object === '' ? undefined : object,
  };
}

export function swiftPath(p: { version?: string; account: string; container?: string; object?: string }): string {
  let path = `/${p.version ?? 'v1'}/${p.account}`;
  if (p.container !== undefined) path += `/${p.container}`;
  if (p.object !== undefined) path += `/${p.object}`;
  return path;
}
