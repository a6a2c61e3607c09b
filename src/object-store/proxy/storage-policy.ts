// The one storage policy this cluster has (Swift's default policy 0): containers are made in it,
// /info lists it, and account usage is reported under its name.
export const DEFAULT_POLICY = { index: 0, name: 'Policy-0' };
