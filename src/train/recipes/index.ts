// The recipe registry: every family of recipes, one line each. Adding a recipe is one file exporting a
// RecipeFamily plus one line here (or a registerRecipes() call from outside, e.g. a user's own recipe).
// The CLI's help, parsing and validation are generated from these schemas.
import { allowedValues, checkOption, defaultOf, UsageError, type OptionSpec, type OptionValue } from '../options.js';
import { baselines } from './baselines.js';
import { bclFamily } from './bcl.js';
import { pretrain } from './pretrain.js';
import { rebsupconFamily } from './rebsupcon.js';
import type { RecipeCheckContext, RecipeFamily, RecipeOptions } from './types.js';

const FAMILIES: RecipeFamily[] = [
  baselines,
  bclFamily,
  pretrain,
  rebsupconFamily,
];

/** Adds a family of recipes to the registry (its names must be new). */
export function registerRecipes(family: RecipeFamily): void {
  for (const name of Object.keys(family.recipes)) {
    if (recipeNames().includes(name)) throw new Error(`registerRecipes: recipe '${name}' is already registered`);
  }
  FAMILIES.push(family);
}

/** Every registered recipe, in registry order. */
export function recipeNames(): string[] {
  return FAMILIES.flatMap((f) => Object.keys(f.recipes));
}

/** The family that builds `recipe`; a UsageError listing the recipes for an unknown name. */
export function recipeFamily(recipe: string): RecipeFamily {
  const family = FAMILIES.find((f) => Object.hasOwn(f.recipes, recipe));
  if (!family) throw new UsageError(`--recipe must be one of ${recipeNames().join(', ')}, got "${recipe}"`);
  return family;
}

/** The options that apply to `recipe`. */
export function recipeOptions(recipe: string): OptionSpec[] {
  return recipeFamily(recipe).options.filter((o) => !o.recipes || o.recipes.includes(recipe));
}

/**
 * Every recipe option of every family, merged by flag (one help entry each), with the recipes each
 * applies to and their defaults: what --help prints.
 */
export function allRecipeOptions(): OptionSpec[] {
  const byFlag = new Map<string, OptionSpec>();
  for (const family of FAMILIES) {
    for (const o of family.options) {
      const recipes = o.recipes ?? Object.keys(family.recipes);
      const defaults = Object.fromEntries(recipes.map((r) => [r, defaultOf(o, r)]).filter(([, v]) => v !== undefined));
      const seen = byFlag.get(o.flag);
      if (seen && (seen.type !== o.type || seen.key !== o.key)) throw new Error(`recipe option --${o.flag} is declared twice with different types or keys`);
      byFlag.set(o.flag, {
        ...o,
        recipes: [...(seen?.recipes ?? []), ...recipes],
        default: undefined,
        defaults: { ...seen?.defaults, ...defaults } as Record<string, OptionValue>,
      });
    }
  }
  // One default for all of an option's recipes prints as a plain default.
  return [...byFlag.values()].map((o) => {
    const values = new Set(Object.values(o.defaults ?? {}).map((v) => JSON.stringify(v)));
    return values.size === 1 ? { ...o, default: Object.values(o.defaults!)[0], defaults: undefined } : o;
  });
}

/**
 * `given` (by option key) checked against `recipe`'s schema, with its defaults filled in, then the
 * family's cross checks. An option that does not apply to `recipe` is refused, naming its flag.
 */
export function resolveRecipeOptions(recipe: string, given: Readonly<Record<string, unknown>>, common: RecipeCheckContext): RecipeOptions {
  const family = recipeFamily(recipe);
  const mine = recipeOptions(recipe);
  const out: Record<string, OptionValue> = {};
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const spec = mine.find((o) => o.key === key);
    if (!spec) {
      const other = FAMILIES.flatMap((f) => f.options).find((o) => o.key === key);
      if (!other) throw new UsageError(`unknown recipe option '${key}' for --recipe ${recipe}`);
      const takers = recipeNames().filter((r) => recipeOptions(r).some((o) => o.key === key));
      throw new UsageError(`--${other.flag} does not apply to --recipe ${recipe} (it applies to ${takers.join(', ')})`);
    }
    out[key] = checkOption(spec, value);
  }
  for (const spec of mine) {
    if (out[spec.key] !== undefined) continue;
    const d = defaultOf(spec, recipe);
    if (d === undefined) throw new UsageError(`--${spec.flag} has no default for --recipe ${recipe}: give ${allowedValues(spec)}`);
    out[spec.key] = d;
  }
  family.check?.(recipe, out, common);
  return out;
}

export type { Recipe, RecipeCheckContext, RecipeContext, RecipeData, RecipeFamily, RecipeOptions, StepInput } from './types.js';
