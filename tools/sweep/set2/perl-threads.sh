perl -Mthreads -e 'my @t = map { threads->create(sub { $_[0] * 2 }, $_) } 1..8; my $s = 0; $s += $_->join for @t; print "$s\n"'
