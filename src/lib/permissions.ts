/**
 * Permissions are `resource:action`. A grant may use wildcards: `*` (everything),
 * `users:*` (every action on users), `*:read` (read anything).
 */
export const PERMISSION = /^(\*|[a-z][a-z0-9-]*:(\*|[a-z][a-z0-9-]*)|\*:[a-z][a-z0-9-]*)$/;

export function hasPermission(granted: readonly string[], required: string): boolean {
  const [resource, action] = required.split(":");
  return granted.some((g) => {
    if (g === "*" || g === required) return true;
    const [gr, ga] = g.split(":");
    return (gr === "*" || gr === resource) && (ga === "*" || ga === action);
  });
}
