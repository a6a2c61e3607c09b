// The settings the image API reads at run time, derived from [image] once at start.
export interface ImageSettings {
  publicEndpoint?: string;
  diskFormats: string[];
  containerFormats: string[];
  imageSizeCap: number;
  /** -1: unlimited */
  quotas: { imageCount: number; imageSize: number; stageSize: number; uploadingCount: number };
}
