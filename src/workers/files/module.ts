import type { ServiceModule } from "../gateway/module";
import { filesConfig } from "./config";
import { fileRoutes } from "./routes";

/** Files in R2: uploads (single and multipart), downloads by signed link, avatars. */
export const filesModule: ServiceModule = {
  name: "files",
  routes: [{ base: "/v1", router: fileRoutes }],
  emits: ["file.uploaded", "file.deleted"],
  config: filesConfig,
  fuzzIds: {
    files: { params: ["fileId", "avatarFileId", "mediaFileIds"], segments: ["files"] },
    uploads: { params: ["uploadId"], segments: ["uploads"] },
  },
};
