import { get } from '../api.js'
import { Status } from '../components/status.js'
import { useLoad } from '../load.js'
import { href } from '../router.js'

export function RepositoriesPage() {
  const [repos] = useLoad(() => get<{ repositories: { name: string }[] }>('/repositories'), [])
  return (
    <section>
      <h1>Repositories</h1>
      <Status loaded={repos}>
        {(r) =>
          r.repositories.length ? (
            <ul class="cards">
              {r.repositories.map((x) => (
                <li key={x.name}>
                  <a href={href(['r', x.name, 'tree'])}>{x.name}</a>
                </li>
              ))}
            </ul>
          ) : (
            <p class="notice">This key sees no repository.</p>
          )
        }
      </Status>
    </section>
  )
}
