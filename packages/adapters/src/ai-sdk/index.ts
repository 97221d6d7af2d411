// The AI SDK metering middleware lands here (issue 6).
export {};
