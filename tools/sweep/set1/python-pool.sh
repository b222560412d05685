python3 -c 'from concurrent.futures import ProcessPoolExecutor as P
with P(2) as p: print(sum(p.map(abs, range(-100,0))))'
