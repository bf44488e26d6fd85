/** A deploy step that cannot go on. The message names what failed and what to do next. */
export class DeployError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeployError';
  }
}
