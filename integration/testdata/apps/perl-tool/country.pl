#!/usr/bin/perl
# Looks up ISO 3166 country names in the iso-codes package's data.
use strict;
use warnings;
use JSON::PP;

my $file = '/usr/share/iso-codes/json/iso_3166-1.json';
open(my $fh, '<:raw', $file) or die "cannot open $file: $!\n";
my $data = decode_json(do { local $/; <$fh> });
close($fh);

my %name = map { $_->{alpha_2} => $_->{name} } @{ $data->{'3166-1'} };
my @codes = @ARGV ? @ARGV : qw(DE FR JP);
for my $code (@codes) {
    printf "%s %s\n", $code, $name{$code} // 'unknown';
}
printf "%d countries\n", scalar keys %name;
