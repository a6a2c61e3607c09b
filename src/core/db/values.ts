// Column value conventions shared by all dialects: booleans are 0/1 integers (SQLite has no
// boolean type) and timestamps are ISO-8601 UTC strings, which sort in time order.
export const dbBool = (value: boolean): number => (value ? 1 : 0);
export const fromDbBool = (value: unknown): boolean => value === 1 || value === true || value === '1';
export const nowIso = (): string => new Date().toISOString();
