package agentpb

import "github.com/hotswap-db/hotswap/internal/domain"

// CatalogRequestFromDomain converts a catalog look-up to its wire form.
func CatalogRequestFromDomain(requestID, instance string, r domain.CatalogRequest) *InspectRequest {
	out := &InspectRequest{RequestId: requestID, InstanceId: instance, WriteWindowMs: r.WriteWindowMs}
	for _, n := range r.Relations {
		out.Relations = append(out.Relations, &RelationName{Schema: n.Schema, Name: n.Name})
	}
	return out
}

// CatalogRequestToDomain converts a wire catalog look-up.
func CatalogRequestToDomain(r *InspectRequest) domain.CatalogRequest {
	out := domain.CatalogRequest{WriteWindowMs: r.GetWriteWindowMs()}
	for _, n := range r.GetRelations() {
		out.Relations = append(out.Relations, domain.ObjectName{Schema: n.GetSchema(), Name: n.GetName()})
	}
	return out
}

// CatalogFactsFromDomain converts catalog facts to their wire form.
func CatalogFactsFromDomain(requestID string, f domain.CatalogFacts) *InspectResponse {
	out := &InspectResponse{RequestId: requestID, FreeDiskBytes: f.FreeDiskBytes}
	for _, r := range f.Relations {
		rel := &RelationFacts{Schema: r.Schema, Name: r.Name, Exists: r.Exists, Kind: r.Kind, ResolvedSchema: r.ResolvedSchema,
			Table: r.Table, Rows: r.Rows, Bytes: r.Bytes, Columns: r.Columns, WritesPerSecond: r.WritesPerSecond}
		for _, ix := range r.Indexes {
			rel.Indexes = append(rel.Indexes, &IndexFacts{Name: ix.Name, Columns: ix.Columns, Unique: ix.Unique,
				Valid: ix.Valid, Definition: ix.Definition})
		}
		out.Relations = append(out.Relations, rel)
	}
	return out
}

// CatalogFactsToDomain converts wire catalog facts.
func CatalogFactsToDomain(r *InspectResponse) domain.CatalogFacts {
	out := domain.CatalogFacts{FreeDiskBytes: r.GetFreeDiskBytes()}
	for _, rel := range r.GetRelations() {
		f := domain.RelationFacts{ObjectName: domain.ObjectName{Schema: rel.GetSchema(), Name: rel.GetName()},
			Exists: rel.GetExists(), Kind: rel.GetKind(), ResolvedSchema: rel.GetResolvedSchema(), Table: rel.GetTable(),
			Rows: rel.GetRows(), Bytes: rel.GetBytes(), Columns: rel.GetColumns(), WritesPerSecond: rel.GetWritesPerSecond()}
		for _, ix := range rel.GetIndexes() {
			f.Indexes = append(f.Indexes, domain.IndexFacts{Name: ix.GetName(), Columns: ix.GetColumns(), Unique: ix.GetUnique(),
				Valid: ix.GetValid(), Definition: ix.GetDefinition()})
		}
		out.Relations = append(out.Relations, f)
	}
	return out
}
