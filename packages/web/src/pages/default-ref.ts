import { enc, get, type Branch } from '../api.js'

/** The ref a repository opens at: `main` when there is one, else its first branch. */
export async function defaultRef(repo: string): Promise<string> {
  const { branches } = await get<{ branches: Branch[] }>(`/repositories/${enc(repo)}/branches`)
  return branches.find((b) => b.name === 'main')?.name ?? branches[0]?.name ?? 'main'
}
