import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { Account, ApiToken, CreatedApiToken, Organization } from "./access.type";
import { CreateAccountInput, CreateApiTokenInput, UpdateAccountInput } from "./access.input";
import {
  createAccount,
  createApiToken,
  disableAccount,
  revokeApiToken,
  tokensOf,
  updateAccount,
} from "./accounts.service";

@Resolver(() => Account)
export class AccountResolver {
  @FieldResolver(() => Organization)
  async organization(@Root() account: Account, @Ctx() ctx: Context): Promise<Organization> {
    const org = await ctx.loaders.organization.load(account.organizationDbId);
    if (!org) throw new Error(`account ${account.dbId} has no organisation`);
    return org;
  }

  @FieldResolver(() => [ApiToken], {
    nullable: true,
    description: "The account's tokens; for itself and its admins, null for others.",
  })
  tokens(@Root() account: Account, @Ctx() ctx: Context) {
    return tokensOf(ctx.services.db, viewerOf(ctx), account.dbId, account.organizationDbId);
  }

  @Mutation(() => Account, { description: "An organisation's admins (or the operator's) add an account to it." })
  createAccount(@Arg("input", () => CreateAccountInput) input: CreateAccountInput, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "createAccount", targetIds: [input.organizationId] }, (tx) =>
      createAccount(tx, v, input),
    );
  }

  @Mutation(() => Account)
  async updateAccount(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateAccountInput) input: UpdateAccountInput,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    const account = await ctx.services.mutate(v, { operation: "updateAccount", targetIds: [id] }, (tx) =>
      updateAccount(tx, v, id, input),
    );
    ctx.services.auth.forget(); // viewers carry their account's row and role
    return account;
  }

  @Mutation(() => Account, { description: "Disables an account; its tokens stop working within a second." })
  async disableAccount(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    const account = await ctx.services.mutate(v, { operation: "disableAccount", targetIds: [id] }, (tx) =>
      disableAccount(tx, v, id),
    );
    ctx.services.auth.forget();
    return account;
  }

  @Mutation(() => CreatedApiToken, { description: "Issues a token; the secret is in the answer and nowhere else." })
  createApiToken(@Arg("input", () => CreateApiTokenInput) input: CreateApiTokenInput, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(
      v,
      { operation: "createApiToken", targetIds: [input.accountId], resultIds: (r: CreatedApiToken) => [r.apiToken.id] },
      (tx) => createApiToken(tx, v, input),
    );
  }

  @Mutation(() => ApiToken, { description: "Revokes a token, on every node within a second." })
  async revokeApiToken(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    const token = await ctx.services.mutate(v, { operation: "revokeApiToken", targetIds: [id] }, (tx) =>
      revokeApiToken(tx, v, id),
    );
    ctx.services.auth.forget();
    return token;
  }
}
