// Loaded into `comfy-panel serve` by the bench (NODE_OPTIONS=--require): on the message
// "memory" from the parent it collects garbage and answers with process.memoryUsage(), so
// the figure reports what the process retains, not what the collector has yet to free.
'use strict';
const v8 = require('node:v8');
const vm = require('node:vm');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

if (process.send) {
  process.on('message', (message) => {
    if (message !== 'memory') return;
    gc();
    process.send({ type: 'memory', usage: process.memoryUsage() });
  });
  // The channel must not keep the server alive on its own.
  process.channel.unref();
}
