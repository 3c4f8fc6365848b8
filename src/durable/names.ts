/** Every Durable Object name carries the tenant id first, so no two tenants ever share an object. */
export function doName(tenantId: string, ...parts: string[]): string {
  return [tenantId, ...parts].join(":");
}
