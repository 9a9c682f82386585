/** `node --import dist/tests/fuzz/engine/register.js ...`: instruments the codecs before they load. */
import { register } from 'node:module';

register('./hooks.js', import.meta.url);
