# bison and flex: a calculator's grammar and scanner generated, compiled
# and run on expressions, one of them a syntax error.
cat >calc.y <<'Y'
%{
#include <stdio.h>
int yylex(void); void yyerror(const char *s) { printf("error: %s\n", s); }
%}
%token NUM
%left '+' '-'
%left '*' '/'
%%
input: | input line ;
line: '\n' | expr '\n' { printf("= %d\n", $1); } | error '\n' { yyerrok; } ;
expr: NUM | expr '+' expr { $$ = $1 + $3; } | expr '-' expr { $$ = $1 - $3; }
    | expr '*' expr { $$ = $1 * $3; } | expr '/' expr { $$ = $3 ? $1 / $3 : 0; } | '(' expr ')' { $$ = $2; } ;
%%
int main(void) { return yyparse(); }
Y
cat >calc.l <<'L'
%{
#include "calc.tab.h"
%}
%option noyywrap noinput nounput
%%
[0-9]+ { yylval = atoi(yytext); return NUM; }
[ \t] ;
.|\n { return yytext[0]; }
%%
L
bison -d calc.y && flex calc.l && gcc -o calc calc.tab.c lex.yy.c && echo built
printf '1 + 2 * 3\n(4 + 5) * 6\n7 / 0\n8 * * 9\n100 - 1 - 1\n' | ./calc
echo done
