import { fileURLToPath } from 'node:url'

/** @type {import('next').NextConfig} */
const nextConfig = {
  // This folder is the app's root even inside the react-lifeline repository (whose lockfile is further up).
  turbopack: { root: fileURLToPath(new URL('.', import.meta.url)) },
}

export default nextConfig
