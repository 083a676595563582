use strict;
use warnings;
use HTTP::Daemon;
use HTTP::Response;

my %conf;
open my $fh, '<', '/etc/greeter/greeter.conf' or die "config: $!";
while (<$fh>) { chomp; my ($k, $v) = split /=/, $_, 2; $conf{$k} = $v; }
close $fh;

my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $conf{port}, ReuseAddr => 1) or die "listen: $!";
while (my $c = $d->accept) {
    while (my $r = $c->get_request) {
        my $res = HTTP::Response->new(200);
        $res->header('Content-Type' => 'text/plain');
        $res->content("$conf{greeting}\n");
        $c->send_response($res);
    }
    $c->close;
}
