import type { WebhookService } from 'hookrelay';

export interface WalletPolicy {
  startingBalanceCents: number;
  /** Crossing below this emits `wallet.balance_low`, once per crossing. */
  lowBalanceThresholdCents: number;
}

export interface WalletState {
  balanceCents: number;
  currency: 'USD';
  lowBalanceThresholdCents: number;
}

/** A per-organization prepaid balance; the product's source of `wallet.balance_low`. */
export class Wallets {
  private readonly balances = new Map<string, number>();

  constructor(
    private readonly hooks: WebhookService,
    private readonly policy: WalletPolicy,
  ) {}

  get(orgId: string): WalletState {
    return { balanceCents: this.balanceOf(orgId), currency: 'USD', lowBalanceThresholdCents: this.policy.lowBalanceThresholdCents };
  }

  /**
   * Takes `cents` from the balance, or returns false when it does not cover them. The balance
   * changes before the first await, so concurrent debits cannot both see the old balance.
   */
  async debit(orgId: string, cents: number): Promise<boolean> {
    const before = this.balanceOf(orgId);
    if (before < cents) return false;
    const after = before - cents;
    this.balances.set(orgId, after);
    const threshold = this.policy.lowBalanceThresholdCents;
    if (before >= threshold && after < threshold) {
      try {
        await this.hooks.emit(orgId, {
          type: 'wallet.balance_low',
          data: { org_id: orgId, balance_cents: after, threshold_cents: threshold, currency: 'USD' },
        });
      } catch (error) {
        // No debit without its alert: a host with a database would do both in one transaction
        // (`emit(…, { transaction })`); here the debit is undone and the caller sees the error.
        this.balances.set(orgId, this.balanceOf(orgId) + cents);
        throw error;
      }
    }
    return true;
  }

  private balanceOf(orgId: string): number {
    return this.balances.get(orgId) ?? this.policy.startingBalanceCents;
  }
}
