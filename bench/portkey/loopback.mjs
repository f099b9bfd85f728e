// Preloaded into the Portkey gateway (node --import) so that it listens on 127.0.0.1 only:
// @hono/node-server calls server.listen(port, undefined, cb), which would bind every interface.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const callback = args.find((a) => typeof a === 'function');
    return callback ? listen.call(this, Number(args[0]), '127.0.0.1', callback) : listen.call(this, Number(args[0]), '127.0.0.1');
  }
  if (args[0] && typeof args[0] === 'object' && !(args[0] instanceof net.Server)) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
