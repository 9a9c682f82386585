#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm run build produces dist/).
import('../dist/gateway/cli.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(`gatehouse: ${err && err.stack ? err.stack : err}`);
      process.exitCode = 1;
    },
  );
