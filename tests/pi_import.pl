#!/usr/bin/perl -w
# Import mail files into a public-inbox through the same V2Writable->add path that
# public-inbox-mda and -watch use. usage: pi_import.pl INBOX_NAME FILE...
use strict; use PublicInbox::Config; use PublicInbox::InboxWritable; use PublicInbox::Eml;
my $name = shift or die "usage: $0 INBOX_NAME FILE...\n";
my $ibx = PublicInbox::Config->new->lookup_name($name) or die "no inbox $name\n";
my $im = PublicInbox::InboxWritable->new($ibx)->importer(0);
my ($ok, $skip) = (0, 0);
for my $f (@ARGV) {
	open my $fh, '<', $f or die "$f: $!\n";
	my $raw = do { local $/; <$fh> };
	$raw =~ s/\AFrom [^\n]*\n//;
	if ($im->add(PublicInbox::Eml->new(\$raw))) { $ok++ } else { $skip++; warn "skipped (dup?): $f\n" }
}
$im->done; print "imported=$ok skipped=$skip\n";
