/*
 * Shared declarations of the `leben` command-line tool: the subcommand table and helpers
 * every subcommand uses. Only public headers (include/leben/) are used from cli/.
 */
#ifndef LEBEN_CLI_H
#define LEBEN_CLI_H

#define LEBEN_VERSION "0.1.0"

/* Each subcommand: int fn(int argc, char **argv) with argv[0] = the subcommand name;
 * returns the process exit status (0 ok, 1 failure, 2 usage error). */
#define CLI_COMMAND_TABLE(X)                                                               \
	X("contract", cmd_contract, "run, verify and convert clinical contracts (PROforma)") \
	X("data", cmd_data, "describe, deduplicate, audit and search data assets")  \
	X("envelope", cmd_envelope, "seal files to recipients and open them (encryption)") \
	X("abe", cmd_abe, "attribute authorities: keys for attributes, encrypt to policies") \
	X("shares", cmd_shares, "split a secret into threshold shares and combine them") \
	X("tls", cmd_tls, "test mutual-TLS links between consortium nodes") \
	X("ca", cmd_ca, "the consortium CA: create it, issue node certificates") \
	X("kes", cmd_kes, "forward-secure signing keys for co-owners (sign, verify, update)") \
	X("zk", cmd_zk, "recovery commitments and zero-knowledge proofs of ownership") \
	X("policy", cmd_policy, "co-owner policies of assets and co-owners' approvals") \
	X("paillier", cmd_paillier, "homomorphic encryption of numbers (encrypt, add, decrypt)") \
	X("exchange", cmd_exchange, "offer data, request, approve, pay, run and audit exchanges") \
	X("tx", cmd_tx, "sign and send a transaction to the node")                   \
	X("query", cmd_query, "ask the node about accounts, txs, blocks and chains") \
	X("governance", cmd_governance, "propose and vote on consortium members; list them") \
	X("market", cmd_market, "the economy: split tables, quota pools, rankings, redemption") \
	X("proof", cmd_proof, "get a tx's inclusion proof, or check one offline")   \
	X("init", cmd_init, "create a node home (keys, genesis, config)")            \
	X("node", cmd_node, "run a node (ledger, orderer, API)")                      \
	X("keys", cmd_keys, "create, list and show encrypted keys")                   \
	X("verify", cmd_verify, "replay the chains from genesis and check everything") \
	X("sandbox", cmd_sandbox, "run an algorithm over a table in the sandbox, under a release policy") \
	X("compute", cmd_compute, "run small agreed computations on the chain (on-chain sandbox)") \
	X("study", cmd_study, "run a study over several owners' tables by secure aggregation") \
	X("fhir", cmd_fhir, "import NDJSON FHIR resources into the node's FHIR endpoint")  \
	X("store", cmd_store, "the knowledge store: list, search, buy, call, rate contracts") \
	X("surgery", cmd_surgery, "surgical quality control: risk model, O/E, CUSUM alarms, funnel plots") \
	X("referral", cmd_referral, "refer patients after a positive screening; telemedicine reports") \
	X("monitor", cmd_monitor, "chronic-disease monitoring: readings, warnings, acks, payments") \
	X("insurance", cmd_insurance, "data-driven insurance: policies, enrolment, claims, pricing") \
	X("cohort", cmd_cohort, "cohort studies: ethics committee, protocol, opt-in, follow-up rounds") \
	X("version", cmd_version, "print the version")

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

#define CLI_DECL_(name, fn, summary) int fn(int argc, char **argv);
CLI_COMMAND_TABLE(CLI_DECL_)
#undef CLI_DECL_

#endif
