// Nothing to configure: the Tally API is one catch-all route handler (src/app/api/[...path]/route.ts).
const nextConfig = {};

export default nextConfig;
