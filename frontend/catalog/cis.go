package catalog

// CISItem is one recommendation of CIS Docker Benchmark section 4
// ("Container Images and Build File").
type CISItem struct {
	// ID is the item number, "4.1" … "4.12".
	ID string `json:"id"`
	// Title is the recommendation.
	Title string `json:"title"`
	// Automated is true for items the benchmark scores as Automated,
	// false for Manual ones.
	Automated bool `json:"automated"`
}

// CISItems returns the section 4 recommendations in order, with the
// benchmark's Automated/Manual scoring.
func CISItems() []CISItem {
	return []CISItem{
		{ID: "4.1", Title: "Ensure that a user for the container has been created", Automated: true},
		{ID: "4.2", Title: "Ensure that containers use only trusted base images"},
		{ID: "4.3", Title: "Ensure that unnecessary packages are not installed in the container"},
		{ID: "4.4", Title: "Ensure images are scanned and rebuilt to include security patches"},
		{ID: "4.5", Title: "Ensure Content trust for Docker is Enabled", Automated: true},
		{ID: "4.6", Title: "Ensure that HEALTHCHECK instructions have been added to container images", Automated: true},
		{ID: "4.7", Title: "Ensure update instructions are not used alone in Dockerfiles"},
		{ID: "4.8", Title: "Ensure setuid and setgid permissions are removed"},
		{ID: "4.9", Title: "Ensure that COPY is used instead of ADD in Dockerfiles"},
		{ID: "4.10", Title: "Ensure secrets are not stored in Dockerfiles"},
		{ID: "4.11", Title: "Ensure only verified packages are installed"},
		{ID: "4.12", Title: "Ensure all signed artifacts are validated"},
	}
}
