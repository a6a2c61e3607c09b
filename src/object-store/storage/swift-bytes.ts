// SLO manifests are stored small but listed at the size of what they stitch together: the
// proxy appends ";swift_bytes=<total>" to the manifest's Content-Type, the container keeps
// it, and listings show that number as "bytes" with the parameter removed.

/** The Content-Type without its swift_bytes parameter, and that parameter's value. */
export function splitSwiftBytes(contentType: string): { contentType: string; swiftBytes?: string } {
  const m = /^(.*?);\s*swift_bytes=([^;]*)(.*)$/.exec(contentType);
  if (!m) return { contentType };
  return { contentType: m[1]! + m[3]!, swiftBytes: m[2]! };
}

/** A listing's content_type and bytes (Swift's override_bytes_from_content_type). */
export function listedTypeAndSize(contentType: string, size: number): { contentType: string; bytes: number } {
  const { contentType: type, swiftBytes } = splitSwiftBytes(contentType);
  if (swiftBytes === undefined) return { contentType, bytes: size };
  const bytes = Number(swiftBytes);
  return { contentType: type, bytes: Number.isInteger(bytes) ? bytes : size };
}
