/*
 * The node's tx-type table: the spine's own rows plus every upper module's rows. Each module
 * exports one `lb_<module>_register_txtypes()`; add its call here (one line per module).
 * Idempotent, so the node, `leben verify` and tests may all call it.
 *
 * Wire-id ranges:
 *   settlement 0x0101-0x010f spine (0x0105 security: keys.follow, 0x0106 governance.follow),
 *     0x0110-0x011f exchange escrow, 0x0120-0x012f market (pools, redemption, periods,
 *     split votes, payments; 0x012a-0x012c the sandbox's per-step charge: compute.prepay,
 *     compute.settle, compute.reclaim), 0x0130-0x0137 insurance (application 5);
 *   directory 0x0201-0x020f spine (assets; 0x0204 security: keys.follow.directory, 0x0205
 *     governance.follow.directory), 0x0210-0x021f data layer, 0x0220-0x022f purge,
 *     0x0230-0x023f CP-ABE authorities and seals;
 *   business 0x0301-0x030f spine, 0x0310-0x031f knowledge, 0x0320-0x032f security,
 *     0x0330-0x033f consortium governance, 0x0340-0x035f exchange (0x0350-0x035f of it the
 *     on-chain sandbox: compute.run, compute.publish), 0x0360-0x036f market, 0x0370-0x037f
 *     the knowledge store, 0x0390 the patient's purge ask, and the business applications:
 *     0x03a0-0x03a7 referral (1), 0x03a8-0x03af monitoring (2), 0x03b0-0x03b7 cohort
 *     studies (3), 0x03b8-0x03bf surgical quality (4), 0x03c0-0x03c7 insurance (5).
 */
#include "leben/abe_tx.h"
#include "leben/app_referral.h"
#include "leben/cohort.h"
#include "leben/consortium.h"
#include "leben/data_purge.h"
#include "leben/data_tx.h"
#include "leben/exchange.h"
#include "leben/insurance.h"
#include "leben/knowledge_chain.h"
#include "leben/ledger.h"
#include "leben/market.h"
#include "leben/market_store.h"
#include "leben/monitor.h"
#include "leben/node.h"
#include "leben/onchain.h"
#include "leben/security.h"
#include "leben/surgery.h"

int lb_register_txtypes(void)
{
	int rc;
	if ((rc = lb_ledger_register_core_types()))
		return rc;
	if ((rc = lb_knowledge_register_txtypes()))
		return rc;
	if ((rc = lb_consortium_register_txtypes()))
		return rc;
	if ((rc = lb_data_register_txtypes()))
		return rc;
	if ((rc = lb_purge_register_txtypes())) /* directory 0x0220-0x0221: purge */
		return rc;
	if ((rc = lb_purge_ask_register_txtypes())) /* business 0x0390: a patient's purge ask */
		return rc;
	if ((rc = lb_security_register_txtypes()))
		return rc;
	if ((rc = lb_exchange_register_txtypes()))
		return rc;
	if ((rc = lb_onchain_register_txtypes()))
		return rc;
	if ((rc = lb_market_register_txtypes()))
		return rc;
	if ((rc = lb_market_store_register_txtypes()))
		return rc;
	if ((rc = lb_surgery_register_txtypes())) /* business 0x03b8: surgery.alarm */
		return rc;
	if ((rc = lb_monitor_register_txtypes())) /* business 0x03a8: monitoring payments */
		return rc;
	if ((rc = lb_insurance_register_txtypes())) /* business 0x03c0-0x03c3, settlement 0x0130-1 */
		return rc;
	if ((rc = lb_cohort_register_txtypes())) /* business 0x03b0-0x03b5: cohort studies */
		return rc;
	lb_store_set_algo_lookup(lb_xchg_state_algo);
	if ((rc = lb_app_referral_register_txtypes())) /* business 0x03a0-0x03a7: referrals */
		return rc;
	if ((rc = lb_abe_register_txtypes())) /* directory 0x0230-0x0234: CP-ABE */
		return rc;
	return LB_OK;
}
