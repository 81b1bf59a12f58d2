// proxy-addr 2 (express's own dependency) ships no types; the two functions used here.
declare module 'proxy-addr' {
  import type http from 'node:http';
  type Trust = (addr: string, hop: number) => boolean;
  function proxyAddr(req: http.IncomingMessage, trust: Trust): string;
  namespace proxyAddr {
    function compile(val: string | string[]): Trust;
    function all(req: http.IncomingMessage, trust?: Trust): string[];
  }
  export default proxyAddr;
}
