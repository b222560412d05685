printf '#include <stdlib.h>\n#include <stdio.h>\nint main(int c, char **v){ int *p = malloc(10*sizeof(int)); if (c > 1) p[10] = 1; printf("ran\\n"); fflush(stdout); free(p); return 0; }\n' > a.c
gcc -g -fsanitize=address,undefined a.c -o a && ./a; echo "status $?"; ./a x 2> err; echo "status $?"; grep -c 'heap-buffer-overflow' err
