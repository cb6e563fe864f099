// A port nobody listens on, on 127.0.0.1, for a test server the test starts itself.
import * as dgram from "node:dgram";
import * as net from "node:net";

export async function freePort(kind: "tcp" | "udp" = "tcp"): Promise<number> {
  if (kind === "tcp") {
    return new Promise((resolve, reject) => {
      const s = net.createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    s.once("error", reject);
    s.bind(0, "127.0.0.1", () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}
