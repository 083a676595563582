#!/usr/bin/perl
use strict;
use warnings;

use Getopt::Long qw(GetOptions);
use JSON ();
use List::Util qw(sum);
use POSIX qw(floor);

my ($help, $pretty, @items) = (0, 0);
my $currency = 'EUR';
GetOptions(
    'item=s'     => \@items,
    'currency=s' => \$currency,
    'pretty'     => \$pretty,
    'help'       => \$help,
) or die "usage: inventory --item name=price ... [--currency EUR] [--pretty]\n";
if ($help) {
    print "usage: inventory --item name=price ... [--currency EUR] [--pretty]\n";
    exit 0;
}

my %prices = map { split /=/, $_, 2 } @items;
my $total = sum(0, values %prices);
my $json = JSON->new->canonical(1)->pretty($pretty);
print $json->encode({
    items    => \%prices,
    total    => floor($total * 100 + 0.5) / 100,
    currency => $currency,
    json     => "JSON " . JSON->VERSION,
});
print "\n" unless $pretty;
