python3 -c 'import asyncio
async def m():
    p = await asyncio.create_subprocess_exec("sh","-c","echo hi; exit 3", stdout=asyncio.subprocess.PIPE)
    o,_ = await p.communicate(); print(o, p.returncode)
asyncio.run(m())'
