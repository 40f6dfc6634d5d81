// Runs src/engine/host/utility.ts the way Electron's utilityProcess would, with process.parentPort
// and MessagePortMain played by Node's worker_threads MessageChannel; talks to the test over IPC.
import { MessageChannel } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();

/** Electron's MessagePortMain emits { data, ports }; Node's port emits the value itself. */
function asMain(port) {
  return {
    on(event, listener) {
      if (event === 'message') port.on('message', (data) => listener({ data, ports: [] }));
      else port.on(event, listener);
    },
    postMessage: (m) => port.postMessage(m),
    start: () => port.start?.(),
    close: () => port.close(),
  };
}

const parentListeners = [];
process.parentPort = {
  on(event, listener) {
    if (event === 'message') parentListeners.push(listener);
  },
  postMessage(m) {
    process.send({ from: 'parentPort', message: m });
  },
};

let windowPort = null;
process.on('message', (m) => {
  if (m.do === 'connect') {
    const { port1, port2 } = new MessageChannel();
    windowPort?.close();
    windowPort = port2;
    port2.on('message', (data) => process.send({ from: 'window', message: data }));
    for (const l of parentListeners) l({ data: { type: 'connect' }, ports: [asMain(port1)] });
  } else if (m.do === 'bad') {
    for (const l of parentListeners) l({ data: { type: 'nonsense' }, ports: [] });
  } else if (m.do === 'send') {
    windowPort.postMessage(m.message);
  }
});

await import('../../src/engine/host/utility.ts');
