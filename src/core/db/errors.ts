// Recognises a unique-constraint violation from any of our three databases, so handlers can
// answer 409 Conflict instead of 500.
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | undefined;
  if (!e) return false;
  return (
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e.code === '23505' ||
    e.code === 'ER_DUP_ENTRY' ||
    e.errno === 1062
  );
}
