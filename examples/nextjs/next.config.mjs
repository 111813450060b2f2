/** @type {import('next').NextConfig} */
const nextConfig = {
  // llm-relay loads a native addon (.node): keep it out of the server bundle and let Node require
  // it at run time. The browser side (llm-relay/client) is plain JS and is bundled as usual.
  serverExternalPackages: ['llm-relay'],
};

export default nextConfig;
