// Writes `<file>.gz` (gzip -9) and `<file>.br` (brotli, quality 11) next to
// each file given, for the server to send to browsers that accept them.
//
//   node tools/precompress.mjs target/site/pkg/tandem-demo.wasm ...
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

for (const file of process.argv.slice(2)) {
  const data = readFileSync(file);
  const gz = gzipSync(data, { level: 9 });
  const br = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  writeFileSync(`${file}.gz`, gz);
  writeFileSync(`${file}.br`, br);
  console.log(`${file}: ${data.length} B, gzip ${gz.length} B, brotli ${br.length} B`);
}
