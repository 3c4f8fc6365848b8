/** Where the files service keeps a file's bytes (src/workers/files/service.ts, r2KeyOf; a test holds them equal). */
export const fileKey = (tenantId: string, fileId: string) => `t/${tenantId}/files/${fileId}`;

/** Every key of a tenant's files starts with this. */
export const filePrefix = (tenantId: string) => `t/${tenantId}/`;
