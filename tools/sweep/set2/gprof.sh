printf '#include <stdio.h>\nvolatile double s; void work(){ for (long i=0;i<30000000;i++) s+=i*0.5; }\nint main(){ work(); printf("ok\\n"); return 0; }\n' > p.c
gcc -pg -O0 p.c -o p && ./p && test -s gmon.out && gprof -b -p p gmon.out | grep -c work
