import { defineConfig } from 'vitest/config'

// config.json is not part of the build: the deployment (CDK) or the offline runtime
// (local/webapp.py) serves it beside index.html.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.ts'],
  },
})
