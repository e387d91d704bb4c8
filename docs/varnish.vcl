# Varnish in front of cdnserve replicas: caches what cdnserve's
# Cache-Control allows, indexes every object by cdnserve's cache tags
# (Surrogate-Key) with the xkey module, and takes purges by URL (PURGE)
# and by tag (PURGE with an xkey-purge header) from trusted addresses.
# It keeps cdnserve's encodings (br, gzip, identity) and their strong
# ETags, and no tag header reaches a client (docs/deploy.md, "Varnish"):
#
#   cdnserve build --purge xkey+http://127.0.0.1:6081    # by tag (this file)
#   cdnserve build --purge http://127.0.0.1:6081         # by URL
#
# Debian: apt-get install varnish varnish-modules; then
#   varnishd -F -a :6081 -f /etc/varnish/cdnserve.vcl -s malloc,1g
# The tests (cmd/cdnserve/edge_test.go) run this file as it is, with the
# two backends' ports replaced.
vcl 4.1;

import directors;
import xkey;

# Two cdnserve serve replicas of one tree (disk or S3). Add as many as
# you run.
backend replica1 {
    .host = "127.0.0.1";
    .port = "8081";
}
backend replica2 {
    .host = "127.0.0.1";
    .port = "8082";
}

# Who may purge: the publishers (CI) and the replicas.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    new origin = directors.round_robin();
    origin.add_backend(replica1);
    origin.add_backend(replica2);
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.xkey-purge) {
            set req.http.n-gone = xkey.purge(req.http.xkey-purge);
            return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
        }
        return (purge);
    }
    set req.backend_hint = origin.backend();

    # cdnserve sends brotli, gzip or the bytes as they are, each with its
    # own strong ETag and Vary: Accept-Encoding. Varnish's own gzip support
    # would rewrite Accept-Encoding to gzip after this sub (so brotli never
    # reaches a client) and gunzip for a client without gzip (weakening the
    # ETag to W/). So reduce the client's Accept-Encoding to the one
    # encoding cdnserve would choose, ask the replica for exactly it
    # (vcl_backend_fetch), and keep a variant per encoding by varying on
    # it (vcl_backend_response). A PURGE of a URL drops every variant.
    if (req.http.Accept-Encoding ~ "(?i)\bbr\b(?!\s*;\s*q\s*=\s*0(\.0*)?\s*(,|$))") {
        set req.http.X-Cdnserve-AE = "br";
    } elsif (req.http.Accept-Encoding ~ "(?i)\bgzip\b(?!\s*;\s*q\s*=\s*0(\.0*)?\s*(,|$))") {
        set req.http.X-Cdnserve-AE = "gzip";
    } else {
        set req.http.X-Cdnserve-AE = "identity";
    }
}

sub vcl_backend_fetch {
    # (X-Cdnserve-AE stays on the request: Varnish records the variant's
    # Vary from it.)
    if (bereq.http.X-Cdnserve-AE == "identity") {
        unset bereq.http.Accept-Encoding;
    } else {
        set bereq.http.Accept-Encoding = bereq.http.X-Cdnserve-AE;
    }
}

sub vcl_backend_response {
    # xkey indexes objects by the xkey header; cdnserve sends its tags as
    # Surrogate-Key (space-separated), the form xkey reads.
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
    # Varnish would match Vary: Accept-Encoding against the header it
    # rewrote, not the one the replica saw: vary on the encoding chosen in
    # vcl_recv instead. The rest of Vary stays (Accept: errors and
    # listings are negotiated); vcl_deliver gives browsers the original.
    if (beresp.http.Vary ~ "(?i)accept-encoding") {
        set beresp.http.Vary = regsuball(beresp.http.Vary, "(?i)\baccept-encoding\b", "X-Cdnserve-AE");
    }
}

sub vcl_deliver {
    # Whether the edge answered from its cache, for people and for tests.
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # The Vary the replica sent. (Varnish itself adds Accept-Encoding to
    # the Vary of a gzip object: no second one.)
    if (resp.http.Vary ~ "(?i)accept-encoding") {
        set resp.http.Vary = regsub(regsub(resp.http.Vary, "\s*,?\s*X-Cdnserve-AE", ""), "^\s*,\s*", "");
    } elsif (resp.http.Vary) {
        set resp.http.Vary = regsub(resp.http.Vary, "X-Cdnserve-AE", "Accept-Encoding");
    }
    # Tags are for the edge, not for browsers: every form cdnserve sends
    # (Cache-Tag for Cloudflare, Surrogate-Key for Fastly and xkey) and
    # the one this file adds.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
    unset resp.http.Cache-Tag;
}
