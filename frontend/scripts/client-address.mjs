// Loaded before the server (`node --import ./client-address.mjs server.js`): makes the
// X-Forwarded-For header that reaches the app say who is really connected.
//
// Better Auth limits sign-in and sign-up attempts per client address, read from
// X-Forwarded-For. Next.js fills that header from the socket only when the request has none,
// so a client that sends its own value would choose its address and dodge the limit. Here the
// header is rewritten on every request before Next.js sees it:
// - TRUSTED_PROXIES unset: the header becomes the socket's peer address, whatever was sent.
// - TRUSTED_PROXIES set (the proxies' addresses or CIDR ranges, comma-separated, also given to
//   Better Auth): the peer is appended to the chain the proxies built, and Better Auth walks it
//   from the right past the trusted hops to the client. A direct connection from an address
//   outside the list still ends the chain with itself.
import http from "node:http";

const trustsProxies = (process.env.TRUSTED_PROXIES ?? "").trim() !== "";
const emit = http.Server.prototype.emit;

function rewrite(request) {
  const peer = request.socket.remoteAddress;
  const sent = request.headers["x-forwarded-for"];
  if (peer === undefined) delete request.headers["x-forwarded-for"];
  else request.headers["x-forwarded-for"] = trustsProxies && sent ? `${sent}, ${peer}` : peer;
}

http.Server.prototype.emit = function (event, ...args) {
  if (event === "request") rewrite(args[0]);
  return emit.call(this, event, ...args);
};
