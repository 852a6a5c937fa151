#!/usr/bin/perl
# Differential oracle: runs xCAT's unmodified NodeRange.pm against an in-memory cluster.
# usage: oracle.pl XCATLIBDIR CLUSTER.json < queries (one JSON object per line)
use strict;
use warnings;
no warnings;
use JSON::PP;
my ($libdir, $clusterfile) = @ARGV;
our $C;
{
    local $/;
    open(my $f, '<', $clusterfile) or die "cannot open $clusterfile";
    $C = JSON::PP->new->decode(<$f>);
}
BEGIN {
    $INC{'xCAT/Table.pm'}      = 'stub';
    $INC{'xCAT/DBobjUtils.pm'} = 'stub';
}
package xCAT::Table;
sub new { my ($c, $n) = @_; return bless { name => $n }, $c; }
sub _set_use_cache { }
sub _build_cache   { }
sub close          { }
sub getAllAttribs {
    my ($self, @cols) = @_;
    return map { {%$_} } @{ $main::C->{nodes} };
}
sub getAllEntries { return [ map { {%$_} } @{ $main::C->{nodegroup} || [] } ]; }
sub groups_of {
    my $n = shift;
    for my $r (@{ $main::C->{nodes} }) { return split(/,/, $r->{groups} // '') if $r->{node} eq $n; }
    return ();
}
sub lookup {    # resolved value of table.col for node (node row, then groups in order)
    my ($tab, $node, $col) = @_;
    my $rows = $main::C->{tables}{$tab} || [];
    if ($tab eq 'nodelist') { $rows = $main::C->{nodes}; }
    for my $key ($node, groups_of($node)) {
        for my $r (@$rows) {
            if (defined $r->{node} and $r->{node} eq $key and defined $r->{$col} and $r->{$col} ne '') { return $r->{$col}; }
        }
        last if $tab eq 'nodelist';
    }
    return undef;
}
sub getNodesAttribs {
    my ($self, $nodes, $cols) = @_;
    my %h;
    for my $n (@$nodes) {
        my %rec;
        my $any = 0;
        for my $c (@$cols) { my $v = lookup($self->{name}, $n, $c); if (defined $v) { $rec{$c} = $v; $any = 1; } }
        if ($any) { $rec{node} = $n; $h{$n} = [ \%rec ]; } else { $h{$n} = [undef]; }
    }
    return \%h;
}
package xCAT::DBobjUtils;
sub getGroupMembers {
    my ($class, $name, $hash) = @_;
    my %where;
    for my $m (split('::', $hash->{$name}{wherevals})) {
        my ($attr, $val, $mt);
        if    ($m =~ /^[^=]*\==/)      { ($attr, $val) = split /==/, $m, 2; $mt = 'match'; }
        elsif ($m =~ /^[^=]*=~/)       { ($attr, $val) = split /=~/, $m, 2; $val =~ s/^\///; $val =~ s/\/$//; $mt = 'regex'; }
        elsif ($m =~ /^[^=]*\!=/)      { ($attr, $val) = split /!=/, $m, 2; $mt = 'natch'; }
        elsif ($m =~ /[^=]*!~/)        { ($attr, $val) = split /!~/, $m, 2; $val =~ s/^\///; $val =~ s/\/$//; $mt = 'negex'; }
        elsif ($m =~ /^[^=]*=[^=]+$/)  { ($attr, $val) = split /=/, $m, 2; $mt = 'match'; }
        else { return undef; }
        $where{$attr} = { val => $val, matchtype => $mt };
    }
    my @members;
    for my $r (@{ $main::C->{nodes} }) {
        my $n = $r->{node};
        my %obj = (node => $n);
        for my $a (@{ $xCAT::Schema::defspec{node}{attrs} }) {
            my $an = $a->{attr_name};
            next if $an eq 'node';
            next unless exists $where{$an} or grep { my $oi = $_->{only_if} // ''; $oi =~ /^\Q$an\E=/ } @{ $xCAT::Schema::defspec{node}{attrs} };
            if ($a->{only_if}) {
                my ($ca, $cv) = split('\=', $a->{only_if});
                next if (!($obj{$ca} =~ /\b$cv\b/));
            }
            my ($t, $c) = split('\.', $a->{tabentry});
            my $v = xCAT::Table::lookup($t, $n, $c);
            $obj{$an} = $v if defined $v;
        }
        my $ok = 1;
        for my $ta (keys %where) {
            if (exists $obj{$ta}) {
                my $w = $where{$ta};
                if ($w->{matchtype} eq 'match' and $obj{$ta} ne $w->{val}) { $ok = 0; last; }
                if ($w->{matchtype} eq 'natch' and $obj{$ta} eq $w->{val}) { $ok = 0; last; }
                if ($w->{matchtype} eq 'regex' and $obj{$ta} !~ $w->{val}) { $ok = 0; last; }
                if ($w->{matchtype} eq 'negex' and $obj{$ta} =~ $w->{val}) { $ok = 0; last; }
            } else { $ok = 0; last; }
        }
        push @members, $n if $ok;
    }
    return @members ? join(',', @members) : undef;
}
package main;
unshift @INC, $libdir;
require xCAT::Schema;
require xCAT::NodeRange;
%::XCATSITEVALS = %{ $C->{site} || {} };
for my $k (keys %{ $C->{env} || {} }) { $ENV{$k} = $C->{env}{$k}; }
my $js = JSON::PP->new->canonical;
$| = 1;
while (my $line = <STDIN>) {
    chomp $line;
    next unless length $line;
    my $q = $js->decode($line);
    my @r;
    my @missing;
    my $err;
    local %ENV = %ENV;
    for my $k (keys %{ $q->{env} || {} }) { if (defined $q->{env}{$k}) { $ENV{$k} = $q->{env}{$k}; } else { delete $ENV{$k}; } }
    local %::XCATSITEVALS = (%::XCATSITEVALS, %{ $q->{site} || {} });
    xCAT::NodeRange::retain_cache(0);
    eval {
        local $SIG{ALRM} = sub { die "TIMEOUT\n" };
        alarm($ENV{ORACLE_TIMEOUT} || 5);
        my @args = ($q->{range}, $q->{verify} // 1, $q->{excludenodes} // 1);
        push @args, (genericrange => 1) if $q->{genericrange};
        @r = xCAT::NodeRange::noderange(@args);
        @missing = xCAT::NodeRange::nodesmissed();
        alarm(0);
    };
    alarm(0);
    if ($@) { $err = $@; delete $INC{"xCAT/NodeRange.pm"}; { no warnings; require xCAT::NodeRange; } $err =~ s/ at \S+ line \d+(, <[^>]+> line \d+)?\.?\n?$//s; chomp $err; }
    # the recursion level is a global; reset it the way a new xcatd process would start
    {
        no strict 'refs';
    }
    print $js->encode({ range => $q->{range}, nodes => [ map { defined $_ ? $_ : undef } @r ], missing => [ map { defined $_ ? $_ : undef } @missing ], error => $err }), "\n";
}
