import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
export default {
  // The native addon must be required from node_modules at run time, not bundled.
  // (.ci/stages/nextjs.sh also builds once without it, to check what the error says.)
  serverExternalPackages: process.env.LLM_RELAY_TEST_BUNDLED === '1' ? [] : ['llm-relay'],
  // This app lives inside the llm-relay repository: keep Next.js from taking
  // the repository (its lockfile) for the workspace root.
  turbopack: { root: here },
  outputFileTracingRoot: here,
};
