python3 -c '
import asyncio
async def handle(r, w):
    d = await r.readline(); w.write(d.upper()); await w.drain(); w.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0); port = srv.sockets[0].getsockname()[1]
    outs = []
    for i in range(20):
        r, w = await asyncio.open_connection("127.0.0.1", port); w.write(b"msg%d\n" % i); await w.drain(); outs.append(await r.readline()); w.close()
    print(len(outs), outs[0], outs[-1])
    p = await asyncio.create_subprocess_exec("sh", "-c", "sleep 0.1; echo sub", stdout=asyncio.subprocess.PIPE)
    print((await p.communicate())[0], p.returncode)
    try: await asyncio.wait_for(asyncio.sleep(5), 0.2)
    except asyncio.TimeoutError: print("timed out")
    srv.close(); await srv.wait_closed()
    loop = asyncio.get_running_loop()
    t = await asyncio.gather(*(loop.run_in_executor(None, sum, range(n)) for n in range(10)))
    print(t[-1])
asyncio.run(main())
'
