/** Where a tenant's file bytes live in the files bucket (the files service writes there; backups copy them). */
export const r2KeyOf = (tenantId: string, fileId: string) => `t/${tenantId}/files/${fileId}`;

/** Every key of a tenant's files starts with this. */
export const tenantFilesPrefix = (tenantId: string) => `t/${tenantId}/`;
