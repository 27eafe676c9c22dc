package spiffeissuer

import (
	"context"
	"strings"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Status errors, worded as SPIRE's agent words them.
var (
	errNoSecurityHeader = status.Error(codes.InvalidArgument, "security header missing from request")
	errNoIdentity       = status.Error(codes.PermissionDenied, "no identity issued")
	errNoJWT            = status.Error(codes.Unimplemented, "JWT-SVIDs are not supported by the authbench SPIFFE issuer")
)

// workloadAPIPrefix prefixes the full names of the Workload API methods.
const workloadAPIPrefix = "/SpiffeWorkloadAPI/"

// workloadAPI implements workload.SpiffeWorkloadAPIServer for an Issuer.
// WIT-SVID methods fall through to the embedded Unimplemented server.
type workloadAPI struct {
	workload.UnimplementedSpiffeWorkloadAPIServer
	iss *Issuer
}

// FetchX509SVID sends the caller's SVIDs now and again after every rotation.
func (w *workloadAPI) FetchX509SVID(_ *workload.X509SVIDRequest, stream grpc.ServerStreamingServer[workload.X509SVIDResponse]) error {
	ctx := stream.Context()
	uid, err := callerUID(ctx)
	if err != nil {
		return err
	}
	for {
		g := w.iss.current()
		svids := w.iss.svidsFor(g, uid)
		if len(svids) == 0 {
			return errNoIdentity
		}
		if err := stream.Send(w.iss.x509SVIDResponse(svids)); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-g.changed:
		}
	}
}

// FetchX509Bundles sends the trust domain's bundle to callers that have an
// identity, then holds the stream open: the CA does not rotate while the
// issuer runs, so there is never a second message.
func (w *workloadAPI) FetchX509Bundles(_ *workload.X509BundlesRequest, stream grpc.ServerStreamingServer[workload.X509BundlesResponse]) error {
	ctx := stream.Context()
	uid, err := callerUID(ctx)
	if err != nil {
		return err
	}
	if len(w.iss.svidsFor(w.iss.current(), uid)) == 0 {
		return errNoIdentity
	}
	resp := &workload.X509BundlesResponse{
		Bundles: map[string][]byte{w.iss.td.IDString(): w.iss.ca.cert.Raw},
	}
	if err := stream.Send(resp); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// FetchJWTSVID answers Unimplemented: the issuer mints X509-SVIDs only.
func (w *workloadAPI) FetchJWTSVID(context.Context, *workload.JWTSVIDRequest) (*workload.JWTSVIDResponse, error) {
	return nil, errNoJWT
}

// FetchJWTBundles answers Unimplemented: the issuer mints X509-SVIDs only.
func (w *workloadAPI) FetchJWTBundles(*workload.JWTBundlesRequest, grpc.ServerStreamingServer[workload.JWTBundlesResponse]) error {
	return errNoJWT
}

// ValidateJWTSVID answers Unimplemented: the issuer mints X509-SVIDs only.
func (w *workloadAPI) ValidateJWTSVID(context.Context, *workload.ValidateJWTSVIDRequest) (*workload.ValidateJWTSVIDResponse, error) {
	return nil, errNoJWT
}

// x509SVIDResponse packs svids the way SPIRE's agent does: the DER chain
// (leaf only, as the CA is the root), the PKCS#8 key and the bundle.
func (i *Issuer) x509SVIDResponse(svids []*svid) *workload.X509SVIDResponse {
	resp := &workload.X509SVIDResponse{FederatedBundles: map[string][]byte{}}
	for _, s := range svids {
		resp.Svids = append(resp.Svids, &workload.X509SVID{
			SpiffeId:    s.id.String(),
			X509Svid:    s.cert.Raw,
			X509SvidKey: s.keyDER,
			Bundle:      i.ca.cert.Raw,
		})
	}
	return resp
}

// unarySecurityHeader rejects unary Workload API calls without the header.
func unarySecurityHeader(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := checkSecurityHeader(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// streamSecurityHeader rejects streaming Workload API calls without the header.
func streamSecurityHeader(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := checkSecurityHeader(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

// checkSecurityHeader requires exactly "workload.spiffe.io: true" on Workload
// API methods, as SPIRE's agent middleware does.
func checkSecurityHeader(ctx context.Context, fullMethod string) error {
	if !strings.HasPrefix(fullMethod, workloadAPIPrefix) {
		return nil
	}
	md, ok := metadata.FromIncomingContext(ctx)
	if ok && len(md["workload.spiffe.io"]) == 1 && md["workload.spiffe.io"][0] == "true" {
		return nil
	}
	return errNoSecurityHeader
}
