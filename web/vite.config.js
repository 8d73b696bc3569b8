// Vite build of the web app (docs/web.md): hashed files under assets/, no source maps, no
// external URL; `make` runs it with the output in build/web/dist.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: false, target: 'es2022',
    chunkSizeWarningLimit: 4096 },
  oxc: { jsx: { runtime: 'automatic' } },
});
