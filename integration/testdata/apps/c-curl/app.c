/* A C tool that links libcurl and OpenSSL: it reports the library
 * versions, a SHA-256 digest and how many CA certificates it can load. */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

int main(void) {
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	printf("libcurl %s ssl %s\n", v->version, v->ssl_version ? v->ssl_version : "none");

	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const char *msg = "hardenkit";
	if (!EVP_Digest(msg, strlen(msg), md, &n, EVP_sha256(), NULL)) {
		fprintf(stderr, "sha256 failed\n");
		return 1;
	}
	printf("sha256(%s)=", msg);
	for (unsigned int i = 0; i < n; i++)
		printf("%02x", md[i]);
	printf("\n");

	X509_STORE *store = X509_STORE_new();
	if (!X509_STORE_load_file(store, "/etc/ssl/certs/ca-certificates.crt")) {
		fprintf(stderr, "cannot load the CA bundle\n");
		return 1;
	}
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	printf("ca certificates: %s\n", sk_X509_OBJECT_num(objs) > 100 ? "more than 100" : "too few");
	X509_STORE_free(store);
	curl_global_cleanup();
	printf("selftest ok\n");
	return 0;
}
