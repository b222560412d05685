printf '#include <pthread.h>\n#include <stdio.h>\nint x; void *f(void *a){ x++; return 0; }\nint main(){ pthread_t t; pthread_create(&t,0,f,0); x++; pthread_join(t,0); printf("done\\n"); return 0; }\n' > t.c
gcc -g -fsanitize=thread t.c -o t && ./t 2> err; echo "status $?"; grep -c 'data race' err
