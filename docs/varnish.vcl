# Varnish in front of cdnserve replicas: caches what cdnserve's
# Cache-Control allows, indexes every object by cdnserve's cache tags
# (Surrogate-Key) with the xkey module, and takes purges by URL (PURGE)
# and by tag (PURGE with an xkey-purge header) from trusted addresses:
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
}

sub vcl_backend_response {
    # xkey indexes objects by the xkey header; cdnserve sends its tags as
    # Surrogate-Key (space-separated), the form xkey reads.
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
}

sub vcl_deliver {
    # Whether the edge answered from its cache, for people and for tests.
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # Tags are for the edge, not for browsers.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
}
