perl -MPOSIX -e 'my $p = fork; if (!$p) { exit 7 } waitpid($p,0); print $?>>8, " ", floor(2.5), "\n"; open my $f, "-|", "echo", "piped"; print <$f>'
