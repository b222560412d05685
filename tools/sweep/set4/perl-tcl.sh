perl -e '
use IO::Select; pipe(my $r, my $w) or die; my $p = fork();
if ($p == 0) { close $r; print $w "from child\n"; close $w; exit 5 }
close $w; my $s = IO::Select->new($r); my @ready = $s->can_read(5); print scalar(@ready), " ready: ", scalar(<$r>);
waitpid($p, 0); print "status ", $? >> 8, "\n";
local $SIG{ALRM} = sub { die "alarm\n" }; alarm 1; eval { sleep 5 }; print "caught $@";
open(my $fh, "-|", "echo", "piped open") or die; print <$fh>; close $fh;
print join(",", map { $_ * 2 } grep { $_ % 2 } 1..9), "\n";'
echo 'puts [exec echo tcl exec | tr a-z A-Z]; set f [open t.txt w]; puts $f line; close $f; set f [open t.txt]; puts [gets $f]; close $f; after 50; puts [expr {6*7}]; puts [file exists t.txt]' | tclsh
